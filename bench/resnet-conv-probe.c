// ResNet-50's 24 distinct convolution shapes on oneDNN 2.6 (fp32, 224² input, ReLU post-op),
// each timed in several configurations interleaved layer by layer (round robin, best of REPS
// after one warm-up), so a shared, noisy host affects every configuration alike. Prints the
// implementation oneDNN picked and GFLOP/s per layer, and the network total (each shape times
// its multiplicity in ResNet-50). Used for bench/NOTES.md "Stop 18: ResNet-50 speed".
//
//   cc -O2 bench/resnet-conv-probe.c -o /tmp/resnet-conv-probe -ldnnl
//   OMP_NUM_THREADS=2 GOMP_SPINCOUNT=1000 /tmp/resnet-conv-probe N REPS CONFIG...
//
// CONFIG: LAYOUT[:ALG][=IMPL]. LAYOUT 8c (nChw8c), nhwc, nchw, any (16c has no AVX2 kernel:
// it falls to ref:any, minutes per layer); ALG d (direct, default) or a (auto); IMPL: take the
// first implementation whose name contains IMPL (oneDNN's primitive-descriptor iterator), e.g.
// nchw:d=gemm for the im2col + sgemm convolution. FROM=k starts at layer k.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#define CK(x) do{dnnl_status_t s=(x); if(s!=dnnl_success){fprintf(stderr,"%s: %d line %d\n",#x,s,__LINE__);exit(1);}}while(0)
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {int ic,oc,k,s,h,mult;} L;
L layers[]={{3,64,7,2,224,1},
 {64,256,1,1,56,1},{64,64,1,1,56,1},{64,64,3,1,56,3},{64,256,1,1,56,3},{256,64,1,1,56,2},
 {256,512,1,2,56,1},{256,128,1,1,56,1},{128,128,3,2,56,1},{128,512,1,1,28,4},{512,128,1,1,28,3},{128,128,3,1,28,3},
 {512,1024,1,2,28,1},{512,256,1,1,28,1},{256,256,3,2,28,1},{256,1024,1,1,14,6},{1024,256,1,1,14,5},{256,256,3,1,14,5},
 {1024,2048,1,2,14,1},{1024,512,1,1,14,1},{512,512,3,2,14,1},{512,2048,1,1,7,3},{2048,512,1,1,7,2},{512,512,3,1,7,2}};
typedef struct {dnnl_primitive_t p; dnnl_memory_t m[4]; const char*impl; double best;} C;
int main(int argc,char**argv){
  int N=atoi(argv[1]); int reps=atoi(argv[2]); int nc=argc-3; int from=getenv("FROM")?atoi(getenv("FROM")):0;
  dnnl_engine_t eng; CK(dnnl_engine_create(&eng,dnnl_cpu,0)); dnnl_stream_t st; CK(dnnl_stream_create(&st,eng,dnnl_stream_default_flags));
  double tot[16]={0}; double flops=0;
  for(int li=from;li<(int)(sizeof layers/sizeof*layers);li++){ L l=layers[li];
    int p=l.k/2; int oh=(l.h+2*p-l.k)/l.s+1; C c[16];
    for(int ci=0;ci<nc;ci++){ char f[32]; strcpy(f,argv[3+ci]); char*colon=strchr(f,':'); int alg=dnnl_convolution_direct; if(colon){*colon=0; if(colon[1]=='a')alg=dnnl_convolution_auto;}
      dnnl_format_tag_t tag= !strcmp(f,"8c")?dnnl_nChw8c: !strcmp(f,"16c")?dnnl_nChw16c: !strcmp(f,"nhwc")?dnnl_nhwc: !strcmp(f,"nchw")?dnnl_nchw: dnnl_format_tag_any;
      dnnl_dims_t sd={N,l.ic,l.h,l.h}, wd={l.oc,l.ic,l.k,l.k}, bd={l.oc}, dd={N,l.oc,oh,oh};
      dnnl_memory_desc_t smd,wmd,bmd,dmd;
      CK(dnnl_memory_desc_init_by_tag(&smd,4,sd,dnnl_f32,li==0?dnnl_nchw:tag));
      CK(dnnl_memory_desc_init_by_tag(&wmd,4,wd,dnnl_f32,dnnl_format_tag_any));
      CK(dnnl_memory_desc_init_by_tag(&bmd,1,bd,dnnl_f32,dnnl_x));
      CK(dnnl_memory_desc_init_by_tag(&dmd,4,dd,dnnl_f32,li==0&&tag==dnnl_nhwc?dnnl_nChw8c:tag));
      dnnl_convolution_desc_t cd; dnnl_dims_t str={l.s,l.s}, pad={p,p};
      CK(dnnl_convolution_forward_desc_init(&cd,dnnl_forward_inference,alg,&smd,&wmd,&bmd,&dmd,str,pad,pad));
      dnnl_primitive_attr_t attr; CK(dnnl_primitive_attr_create(&attr)); dnnl_post_ops_t po; CK(dnnl_post_ops_create(&po));
      CK(dnnl_post_ops_append_eltwise(po,1,dnnl_eltwise_relu,0,0)); CK(dnnl_primitive_attr_set_post_ops(attr,po));
      dnnl_primitive_desc_t pd; 
      char*want=colon?strchr(colon+1,'='):NULL;
      if(want){ dnnl_primitive_desc_iterator_t it; CK(dnnl_primitive_desc_iterator_create(&it,&cd,attr,eng,NULL)); pd=NULL;
        do{ dnnl_primitive_desc_t cur=dnnl_primitive_desc_iterator_fetch(it); const char*nm; dnnl_primitive_desc_query(cur,dnnl_query_impl_info_str,0,&nm);
            if(strstr(nm,want+1)){pd=cur;break;} dnnl_primitive_desc_destroy(cur);} while(dnnl_primitive_desc_iterator_next(it)==dnnl_success);
        if(!pd){ CK(dnnl_primitive_desc_create(&pd,&cd,attr,eng,NULL)); } }
      else CK(dnnl_primitive_desc_create(&pd,&cd,attr,eng,NULL));
      dnnl_primitive_desc_query(pd,dnnl_query_impl_info_str,0,&c[ci].impl);
      CK(dnnl_primitive_create(&c[ci].p,pd));
      dnnl_query_t qs[4]={dnnl_query_src_md,dnnl_query_weights_md,dnnl_query_weights_md,dnnl_query_dst_md}; int idx[4]={0,0,1,0};
      for(int k=0;k<4;k++){const dnnl_memory_desc_t*q=dnnl_primitive_desc_query_md(pd,qs[k],idx[k]); CK(dnnl_memory_create(&c[ci].m[k],q,eng,DNNL_MEMORY_ALLOCATE)); void*h; dnnl_memory_get_data_handle(c[ci].m[k],&h); memset(h,0,dnnl_memory_desc_get_size(q));}
      c[ci].best=1e9;
    }
    for(int r=0;r<reps;r++) for(int ci=0;ci<nc;ci++){
      dnnl_exec_arg_t a[]={{DNNL_ARG_SRC,c[ci].m[0]},{DNNL_ARG_WEIGHTS,c[ci].m[1]},{DNNL_ARG_BIAS,c[ci].m[2]},{DNNL_ARG_DST,c[ci].m[3]}};
      double t=now(); CK(dnnl_primitive_execute(c[ci].p,st,4,a)); CK(dnnl_stream_wait(st)); t=now()-t; if(r>0&&t<c[ci].best)c[ci].best=t;}
    double fl=2.0*N*oh*oh*(double)l.oc*l.ic*l.k*l.k; flops+=fl*l.mult;
    printf("%2d %4d->%4d k%d s%d @%3d x%d ",li,l.ic,l.oc,l.k,l.s,l.h,l.mult);
    for(int ci=0;ci<nc;ci++){printf(" | %s %s %6.2fms %5.0f",argv[3+ci],c[ci].impl,c[ci].best*1e3,fl/c[ci].best/1e9); tot[ci]+=c[ci].best*l.mult;}
    printf("\n"); fflush(stdout);
  }
  for(int ci=0;ci<nc;ci++) printf("TOTAL %s N=%d: %.1f ms/pass %.2f img/s %.1f GF/s\n",argv[3+ci],N,tot[ci]*1e3,N/tot[ci],flops/tot[ci]/1e9);
}
